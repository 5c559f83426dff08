// The gateway's side of candles and tickers: at seal, a batch that journaled commands moves market
// data to its engine time and gets its candle frames (after its trade frames) and the tickers of
// the markets it may have changed; at release those tickers go to the conflation, which the
// gateway's timer drains into at most one ticker per market per interval.
import type { Codec } from '../../protocol/codec.js';
import type { BookFeed } from '../market-data/book-feed.js';
import { candlesTopic, tickerTopic, type MarketStats } from '../market-data/market-stats.js';
import { TickerConflator } from '../market-data/ticker-conflator.js';
import type { Batch, TopicFrame } from './batch.js';

export class MarketDataFrames {
  private readonly tickers = new TickerConflator();

  constructor(
    private readonly marketStats: MarketStats,
    private readonly feeds: ReadonlyMap<string, BookFeed>,
    private readonly codec: Codec,
  ) {}

  /** Advances candles and tickers by the batch; encodes candle frames of the topics `wanted` says someone may hold. */
  seal(batch: Batch, wanted: (topic: string) => boolean): void {
    if (batch.engineTs === null) return;
    const data = this.marketStats.apply(batch.engineTs, batch.trades);
    for (const candle of data.candles) {
      const topic = candlesTopic(candle.sym, candle.interval);
      if (wanted(topic)) batch.topicFrames.push({ topic, bytes: this.codec.encode(candle) });
    }
    for (const sym of batch.changedBooks) data.tickerChanges.add(sym);
    for (const sym of data.tickerChanges) batch.tickers.push(this.marketStats.ticker(sym, this.feeds.get(sym)!));
  }

  released(batch: Batch): void {
    for (const ticker of batch.tickers) this.tickers.update(ticker);
  }

  /** The tickers due at wall time `now` (ms), encoded; `subscribed` skips the encoding for topics nobody holds. */
  dueTickers(now: number, subscribed: (topic: string) => boolean): TopicFrame[] {
    const frames: TopicFrame[] = [];
    for (const ticker of this.tickers.take(now)) {
      const topic = tickerTopic(ticker.sym);
      if (subscribed(topic)) frames.push({ topic, bytes: this.codec.encode(ticker) });
    }
    return frames;
  }
}
