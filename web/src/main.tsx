// Starts the page: one PageState, one Session to the server that served it, one render per
// animation frame when something changed. With ?test-hooks in the address it also exposes
// `window.spotwireTest` (the state, the session, ways to lose or damage book deltas, the paint latencies)
// for the browser tests and the bench; without it nothing is exposed.
import { render } from 'preact';
import { App } from './app.js';
import { PaintLatency } from './paint-latency.js';
import { Session } from './session.js';
import { FrameScheduler, PageState } from './state.js';
import './styles.css';

const state = new PageState();
const latency = new PaintLatency(() => performance.now());
const root = document.getElementById('app')!;
const scheduler = new FrameScheduler(
  () => {
    const started = performance.now();
    render(<App state={state} session={session} />, root);
    latency.rendered(performance.now() - started);
  },
  (callback) => requestAnimationFrame(callback),
);
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const session = new Session(wsUrl, state, () => scheduler.changed(), sessionStorage, { onBookMessage: (at) => latency.arrived(at) });

if (new URLSearchParams(location.search).has('test-hooks')) {
  Object.assign(window, {
    spotwireTest: {
      state,
      session,
      /** Loses the next `n` book deltas of the shown market, as a dropped message would. */
      dropNextDeltas: (n: number) => {
        if (state.book !== null) state.book.dropNextDeltas += n;
      },
      /** Damages the checksum of the next `n` book deltas, as a corrupted message would. */
      corruptNextDeltas: (n: number) => {
        if (state.book !== null) state.book.corruptNextDeltas += n;
      },
      latencySamples: () => latency.samples.slice(),
      renderSamples: () => latency.renderMs.slice(),
      clearLatency: () => {
        latency.samples.length = 0;
        latency.renderMs.length = 0;
      },
    },
  });
}
// A flash ends without a message: one more render after it, so the highlight goes away.
setInterval(() => scheduler.changed(), 250);
session.start();
