// RFC 6901 JSON Pointer: the path of a JSON Patch operation read into its keys.
// `~1` is `/` and `~0` is `~`, undone in that order so `~01` reads as `~1`; any other
// `~` is kept as it is, as fast-json-patch keeps it.

/** The unescaped keys of `pointer` (`''`, the whole document, has none). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (pointer[0] !== '/') throw new Error(`a JSON pointer starts with "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
}
