import { v7 as uuidv7 } from "uuid";
import type { PrismaClient } from "./db.js";

export interface GrowthEntryView {
  id: string;
  kind: "award" | "note";
  date: string;
  title: string;
  detail: string | null;
  author: { username: string; name: string };
  createdAt: string;
}

type Row = {
  id: string;
  kind: "award" | "note";
  date: string;
  title: string;
  detail: string | null;
  authorUsername: string;
  authorName: string;
  createdAt: Date;
};
const view = (r: Row): GrowthEntryView => ({
  id: r.id,
  kind: r.kind,
  date: r.date,
  title: r.title,
  detail: r.detail,
  author: { username: r.authorUsername, name: r.authorName },
  createdAt: r.createdAt.toISOString(),
});
const COLUMNS = `id, kind, to_char(date, 'YYYY-MM-DD') AS date, title, detail, author_username AS "authorUsername", author_name AS "authorName", created_at AS "createdAt"`;

/** A child's entries not removed, newest first; `author` limits them to what one user wrote. */
export async function listGrowthEntries(prisma: PrismaClient, childId: string, author: string | null): Promise<GrowthEntryView[]> {
  const rows = await prisma.$queryRawUnsafe<Row[]>(
    `SELECT ${COLUMNS} FROM growth_entries
      WHERE child_id = $1::uuid AND removed_at IS NULL AND ($2::text IS NULL OR author_username = $2)
      ORDER BY date DESC, created_at DESC LIMIT 500`,
    childId,
    author,
  );
  return rows.map(view);
}

export async function addGrowthEntry(
  prisma: PrismaClient,
  e: { childId: string; kind: string; date: string; title: string; detail: string | null; author: { username: string; name: string } },
): Promise<GrowthEntryView> {
  const [row] = await prisma.$queryRawUnsafe<Row[]>(
    `INSERT INTO growth_entries (id, child_id, kind, date, title, detail, author_username, author_name)
     VALUES ($1::uuid, $2::uuid, $3, $4::date, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    uuidv7(),
    e.childId,
    e.kind,
    e.date,
    e.title,
    e.detail,
    e.author.username,
    e.author.name,
  );
  return view(row!);
}

/** The entry's author, or null when the child has no such entry (or it was removed). */
export async function growthEntryAuthor(prisma: PrismaClient, childId: string, id: string): Promise<string | null> {
  const [row] = await prisma.$queryRawUnsafe<{ author: string }[]>(
    `SELECT author_username AS author FROM growth_entries WHERE id = $1::uuid AND child_id = $2::uuid AND removed_at IS NULL`,
    id,
    childId,
  );
  return row?.author ?? null;
}

/** Marks the entry removed (kept for the record, no longer listed); false when it already was. */
export async function removeGrowthEntry(prisma: PrismaClient, childId: string, id: string, by: string): Promise<boolean> {
  const n = await prisma.$executeRawUnsafe(
    `UPDATE growth_entries SET removed_at = now(), removed_by = $3 WHERE id = $1::uuid AND child_id = $2::uuid AND removed_at IS NULL`,
    id,
    childId,
    by,
  );
  return n === 1;
}
