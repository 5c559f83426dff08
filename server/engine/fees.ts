// Fees are rounded up per order, not per fill (docs/PROTOCOL.md "Fees"): after each fill the order has
// paid ceil((R_taker·takerFee + R_maker·makerFee) / 10^6) in all, R being what it received in each
// role. R·rate can pass 2^53, so each R is split at 10^6: the high parts divide exactly and only the
// low parts (below 10^12 together) need rounding, which keeps the arithmetic in exact doubles.
import { FEE_RATE_SCALE } from '../../protocol/constants.js';

export function totalFee(receivedTaker: number, takerRate: number, receivedMaker: number, makerRate: number): number {
  const takerHigh = Math.floor(receivedTaker / FEE_RATE_SCALE);
  const makerHigh = Math.floor(receivedMaker / FEE_RATE_SCALE);
  const low = (receivedTaker - takerHigh * FEE_RATE_SCALE) * takerRate + (receivedMaker - makerHigh * FEE_RATE_SCALE) * makerRate;
  const lowFee = Math.floor(low / FEE_RATE_SCALE);
  return takerHigh * takerRate + makerHigh * makerRate + (lowFee * FEE_RATE_SCALE < low ? lowFee + 1 : lowFee);
}
