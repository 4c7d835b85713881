/** Scales a channel count for small models: `max(1, round(c · scale))`. */
export function scaleChannels(c: number, scale: number): number {
  return Math.max(1, Math.round(c * scale));
}

/** Checks a positive number option, with the team's error format. */
export function assertPositive(fn: string, name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`Error in ${fn}: ${name} must be a positive number, but got ${value}.`);
}

/** Checks an `[H, W, C]` input shape. */
export function assertInputShape(fn: string, shape: readonly number[]): void {
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`Error in ${fn}: inputShape must be [height, width, channels] positive integers, but got [${shape.join(', ')}].`);
  }
}

/** Checks a positive integer option. */
export function assertPositiveInteger(fn: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`Error in ${fn}: ${name} must be a positive integer, but got ${value}.`);
}
