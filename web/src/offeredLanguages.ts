/**
 * The languages the workers' executor offers, as the worker publishes them (results/languages.json:
 * Judge0's names such as "Java (OpenJDK 13.0.1)", or the sandbox's toolchain versions). Cached
 * briefly; undefined while nothing is published (the gateway then shows the plain labels).
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { OFFERED_LANGUAGES_KEY, OfferedLanguage, parseOfferedLanguages } from '../../core/src/languages';

export function s3OfferedLanguages(
  s3: S3Client,
  bucket: string,
  ttlMs = 60_000,
  now: () => number = Date.now,
): () => Promise<OfferedLanguage[] | undefined> {
  let cached: { at: number; value: Promise<OfferedLanguage[] | undefined> } | undefined;
  const load = async () => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: OFFERED_LANGUAGES_KEY }));
      const text = (await object.Body?.transformToString('utf8')) ?? '';
      return parseOfferedLanguages(text.slice(0, 64 * 1024))?.languages;
    } catch {
      return undefined;
    }
  };
  return () => {
    if (!cached || now() - cached.at >= ttlMs) cached = { at: now(), value: load() };
    return cached.value;
  };
}
