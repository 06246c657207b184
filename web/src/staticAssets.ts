/**
 * The web page's files (web/public), read once at start into memory: a handful of small files,
 * and no request path ever reaches the file system (so no traversal to guard against).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** web/public, from the sources (tsx) or from the compiled tree (dist/web/src -> web/public). */
export function defaultPublicDir(): string {
  const candidates = [path.join(__dirname, '..', 'public'), path.join(__dirname, '..', '..', '..', 'web', 'public')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? candidates[0];
}

/** URL path ("/js/app.js") -> asset; "/" serves index.html. */
export function loadStaticAssets(dir: string = defaultPublicDir()): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && TYPES[path.extname(entry.name)]) {
        const body = fs.readFileSync(full);
        const urlPath = '/' + path.relative(dir, full).split(path.sep).join('/');
        assets.set(urlPath, {
          body,
          contentType: TYPES[path.extname(entry.name)],
          etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
        });
      }
    }
  };
  walk(dir);
  const index = assets.get('/index.html');
  if (!index) throw new Error(`no index.html in ${dir}: the gateway cannot serve its page`);
  assets.set('/', index);
  return assets;
}
