// One timed pass of a tree's engine over one seeded stream, in a process of its own: what
// `bench:engine -- --baseline <rev>` runs for this tree and for the baseline's worktree in turn, so
// neither's JIT state or garbage touches the other's. Prints one JSON line: ns per command per run.
// Usage: node --import tsx bench/lib/engine-tree-run.ts <tree root> <stream> <length> <runs> <warmup>
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface TreeBook {
  reset(): void;
  run(i: number): number;
}

async function main(): Promise<void> {
  const [root, stream, lengthText, runsText, warmupText] = process.argv.slice(2) as [string, string, string, string, string];
  // The bench's helpers moved to bench/lib/ after the money work's baseline was written.
  const lib = existsSync(join(root, 'bench/lib/book-adapters.ts')) ? join(root, 'bench/lib') : join(root, 'bench');
  const adapters = (await import(pathToFileURL(join(lib, 'book-adapters.ts')).href)) as { SpotwireBook: new (s: unknown) => TreeBook };
  const streams = (await import(pathToFileURL(join(lib, 'streams.ts')).href)) as {
    buildStream: (name: string, length: number) => { commands: unknown[]; trades: number };
  };
  const length = Number(lengthText);
  const built = streams.buildStream(stream, length);
  const book = new adapters.SpotwireBook(built);
  const nsPerCommand: number[] = [];
  for (let run = 0; run < Number(warmupText) + Number(runsText); run++) {
    book.reset();
    const start = process.hrtime.bigint();
    for (let i = 0; i < length; i++) book.run(i);
    const nanos = Number(process.hrtime.bigint() - start);
    if (run >= Number(warmupText)) nsPerCommand.push(nanos / length);
  }
  process.stdout.write(`${JSON.stringify({ nsPerCommand, trades: built.trades })}\n`);
}

void main();
