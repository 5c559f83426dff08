// The floods of bench:loop-fairness: what one hostile or careless connection sends, frame by
// frame. Shared by the flood client (which sends them) and the bench (which names them).

/** Messages per frame: the protocol's maximum. */
export const FRAME = 1024;

export const SCENARIOS = {
  /** 1,024 messages that fail validation. */
  invalid: { burst: 1, window: 4, login: false, message: (i: number) => ({ op: 'nope', rid: i }) },
  /** 1,024 valid requests (`ping`: one reply each, so the window can be counted without decoding). */
  valid: { burst: 1, window: 4, login: false, message: (i: number) => ({ op: 'ping', rid: i }) },
  /** 16 frames of 1,024 `markets` in one write, no login needed. */
  markets: { burst: 16, window: 16, login: false, message: (i: number) => ({ op: 'markets', rid: i }) },
  /** 1,024 `orders` from an account at the open-order cap. */
  orders: { burst: 1, window: 1, login: true, message: (i: number) => ({ op: 'orders', rid: i }) },
} as const;
export type Scenario = keyof typeof SCENARIOS;
