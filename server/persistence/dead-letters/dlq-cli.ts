// CLI entry point: `npm run dlq -- list|show <id>|redrive <id>|drop <id> [--data-dir D]
// [--database-url URL] [--redis-url URL] [--redis-prefix P]` (docs/PERSISTENCE.md "## Write-behind").
import { runDlqCommand } from './dead-letter-commands.js';

const code = await runDlqCommand(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exit(code);
