import { buildStream } from '/work/main/bench/streams.ts';
import { SpotwireBook } from '/work/main/bench/book-adapters.ts';
const stream = buildStream('steady', 200_000);
const book = new SpotwireBook(stream);
for (let r = 0; r < 8; r++) {
  book.reset();
  const t = process.hrtime.bigint();
  for (let i = 0; i < stream.commands.length; i++) book.run(i);
  const ns = Number(process.hrtime.bigint() - t) / stream.commands.length;
  console.log('run', r, ns.toFixed(0), 'ns/cmd');
}
