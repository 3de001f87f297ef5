/**
 * A file name as stored and offered back: no path, no control or reserved characters, at
 * most 100 characters, and ending in the extension of what the bytes really are (a .exe
 * renamed .jpg never gets this far; a photo named "scan.pdf" comes back as "scan.pdf.jpg").
 */
export function safeFileName(name: string | undefined, ext: string): string {
  const base = (name ?? "").split(/[\\/]/).pop() ?? "";
  let clean = base.replace(/[\u0000-\u001f\u007f<>:"|?*;\u202a-\u202e\u2066-\u2069]/g, "").trim();
  clean = clean.replace(/^\.+/, "");
  if (!clean) clean = "附件";
  const stem = clean.toLowerCase().endsWith(`.${ext}`) || (ext === "jpg" && /\.jpe?g$/i.test(clean)) ? clean : `${clean}.${ext}`;
  if (stem.length <= 100) return stem;
  return `${stem.slice(0, 100 - ext.length - 1)}.${ext}`;
}

/**
 * Content-Disposition for a download: an ASCII fallback for old clients and the real
 * (Chinese) name in RFC 5987 form; the name went through safeFileName, so no quote, CR/LF
 * or path can reach the header.
 */
export function contentDisposition(fileName: string, disposition: "attachment" | "inline" = "attachment"): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
