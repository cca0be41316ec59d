/** wawoff2 (Google's woff2 built to WebAssembly) ships no types; this is the part we call. */
declare module 'wawoff2' {
  const wawoff2: { decompress(woff2: Uint8Array): Promise<Uint8Array> };
  export default wawoff2;
}
