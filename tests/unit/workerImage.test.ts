import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IMAGE_SOURCES } from '../../components/ecsGrading';

const ROOT = path.join(__dirname, '../..');
const dockerfile = fs.readFileSync(path.join(ROOT, 'worker/Dockerfile'), 'utf8');

describe('worker image (worker/Dockerfile)', () => {
  it('hashes everything it copies from the build context, so a change gets a new image tag', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
    const hashed = [...IMAGE_SOURCES.files, ...IMAGE_SOURCES.dirs];
    for (const source of copied) assert.ok(hashed.includes(source.replace(/\/$/, '')), `${source} is copied but not in IMAGE_SOURCES`);
  });

  it('ships the web page in the final stage, where the gateway reads it', () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(finalStage, /^COPY web\/public web\/public$/m);
    assert.ok(fs.existsSync(path.join(ROOT, 'web/public/index.html')));
  });

  it('runs as a non-root user with a health check and production dependencies only', () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(finalStage, /^USER node$/m);
    assert.match(finalStage, /^HEALTHCHECK /m);
    assert.match(dockerfile, /npm ci --omit=dev/);
  });
});
