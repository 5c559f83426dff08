// CLI entry point of `npm run admin` (admin-commands.ts has the commands and their usage).
import { runAdminCommand } from './admin-commands.js';

const code = await runAdminCommand(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exit(code);
