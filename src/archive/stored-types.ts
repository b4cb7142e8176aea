/**
 * File types whose contents are already compressed: deflating them again costs CPU for no gain
 * (often a few bytes of growth), so the archive stores them as they are (zip method 0).
 */
const PRECOMPRESSED_EXTENSIONS = new Set([
  // images
  'png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'heic', 'heif', 'jxl', 'ico',
  // video and audio
  'mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi', 'mp3', 'm4a', 'aac', 'ogg', 'oga', 'opus', 'flac',
  // archives and compressed streams
  'zip', 'gz', 'tgz', 'bz2', 'xz', 'zst', '7z', 'rar', 'br', 'lz4', 'jar', 'war', 'whl', 'apk', 'nupkg', 'gem', 'crate',
  // fonts
  'woff', 'woff2',
  // documents and binaries that carry their own compression
  'pdf', 'docx', 'xlsx', 'pptx', 'odt', 'epub', 'wasm',
]);

/** True when the entry should be stored rather than deflated, judged by its name alone. */
export function isPrecompressedName(rel: string): boolean {
  const slash = rel.lastIndexOf('/');
  const dot = rel.lastIndexOf('.');
  if (dot <= slash + 1) return false; // no extension, or a dotfile like `.gz`
  return PRECOMPRESSED_EXTENSIONS.has(rel.slice(dot + 1).toLowerCase());
}
