// The CrossGuard pack: `pulumi preview --policy-pack policies`. Constructing PolicyPack starts the
// policy gRPC server, so nothing else may import this file (tests import ./rules).
import { PolicyPack } from '@pulumi/policy';
import { ALL_POLICIES } from './rules';

new PolicyPack('grading-stack', { policies: ALL_POLICIES });
