/**
 * The image type of the pipeline and the error for unreadable inputs, with no image library behind
 * them: shared by the sharp path (`image.ts`) and the browser path (`browser.ts`).
 */

/** A decoded 8-bit RGB image: `data` is `height × width × 3`, row-major, interleaved. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Raised when a file is missing, not an image, or corrupt (`decodeImage`, `decodeImageBlob`). */
export class UnreadableImageError extends Error {
  /** What was being read (a path, a file name, or `'<buffer>'`). */
  readonly source: string;

  constructor(source: string, cause: unknown) {
    super(`Cannot read image ${source}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'UnreadableImageError';
    this.source = source;
  }
}
