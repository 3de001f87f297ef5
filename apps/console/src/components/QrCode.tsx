import { encode } from "uqr";

/**
 * A QR code as an SVG (uqr's matrix, one path, no script or image): the 联系卡 carries the
 * link that opens the child's 走访 page, so a phone's camera — or 我的走访's 扫码 — goes there.
 * The quiet zone (4 modules) is part of the drawing.
 */
export function QrCode({ value, size = 88, label }: { value: string; size?: number; label: string }) {
  const { data } = encode(value, { ecc: "M", border: 4 });
  const n = data.length;
  let d = "";
  data.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x} ${y}h1v1h-1z`;
    }),
  );
  return (
    <svg
      width={size}
      height={size}
      viewBox={`0 0 ${n} ${n}`}
      role="img"
      aria-label={label}
      data-testid="qr-code"
      data-value={value}
      shapeRendering="crispEdges"
    >
      <rect width={n} height={n} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
