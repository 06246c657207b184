/**
 * The grader's version, part of the result cache key: bump it whenever the same submission could
 * get another verdict, score or number from the same test cases (checkers, verdict rules, scoring,
 * compiler/interpreter flags or toolchains, limits handling, the contract's units), so results
 * graded by the old rules are not served again.
 */
export const GRADER_VERSION = 3;
