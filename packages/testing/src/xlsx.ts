import { crc32, deflateRawSync } from "node:zlib";

/** A zip of the given parts (deflated), optionally lying about a part's inflated size. */
export function zip(parts: Record<string, string | Buffer>, lie: Record<string, number> = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(parts)) {
    const raw = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const data = deflateRawSync(raw);
    const nameBuf = Buffer.from(name);
    const size = lie[name] ?? raw.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(raw), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc32(raw), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(parts).length, 8);
  end.writeUInt16LE(Object.keys(parts).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

const workbook = `<?xml version="1.0"?><workbook xmlns:r="r"><sheets><sheet name="长岭乡" sheetId="1" r:id="rId1"/></sheets></workbook>`;
const rels = `<?xml version="1.0"?><Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`;
export const sheetXml = (body: string, extra = "") => `<?xml version="1.0"?><worksheet><sheetData>${body}</sheetData>${extra}</worksheet>`;
export const sheetRows = (n: number, cols = 3) =>
  Array.from(
    { length: n },
    (_, i) =>
      `<row r="${i + 1}">${Array.from({ length: cols }, (_, c) => `<c r="${String.fromCharCode(65 + (c % 26))}${i + 1}"><v>${i}</v></c>`).join("")}</row>`,
  ).join("");
/** A one-sheet .xlsx built by hand (bombs and malformed files no spreadsheet library would write). */
export const handMadeXlsx = (sheet: string | Buffer, lie: Record<string, number> = {}) =>
  zip({ "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": rels, "xl/worksheets/sheet1.xml": sheet }, lie);
