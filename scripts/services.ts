/**
 * `npm run services`: only the local services (ActiveMQ with the project's broker XML, MariaDB,
 * s3rver), state under .local/ like `npm run local`, and the sample problems seeded. Prints the
 * env vars a worker or gateway started by hand needs, then waits for Ctrl-C and stops them.
 *   options: --state-dir DIR (default .local), --no-seed
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { seedProblems, startServices, takeLock } from './local';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let stateDir = path.resolve(__dirname, '..', '.local');
  let seed = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--state-dir' && argv[i + 1]) stateDir = path.resolve(argv[++i]);
    else if (argv[i] === '--no-seed') seed = false;
    else {
      console.error(`unknown option ${argv[i]} (expected --state-dir DIR, --no-seed)`);
      return 2;
    }
  }
  fs.mkdirSync(stateDir, { recursive: true });
  const releaseLock = takeLock(stateDir);
  const services = await startServices(stateDir, (line) => console.log(line)).catch((error) => {
    releaseLock();
    throw error;
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    await services.stop();
    releaseLock();
    process.exit(130);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  if (seed) console.log(`seeded problems: ${(await seedProblems(services.env)).join(', ')}`);
  const envFile = path.join(stateDir, 'services.env');
  fs.writeFileSync(
    envFile,
    Object.entries(services.env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  console.log(`\nenv for a worker or gateway started by hand is in ${envFile}, e.g.`);
  const shown = path.relative(process.cwd(), envFile).startsWith('..') ? envFile : path.relative(process.cwd(), envFile);
  console.log(`  env $(xargs < ${shown}) npx tsx web/src/main.ts`);
  // Secret values stay in the file (mode 600), never on the terminal.
  for (const [key, value] of Object.entries(services.env)) console.log(`  ${key}=${/PASSWORD|SECRET/.test(key) ? '(in the file)' : value}`);
  console.log('Ctrl-C stops the services.');
  await new Promise(() => undefined);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`services failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
