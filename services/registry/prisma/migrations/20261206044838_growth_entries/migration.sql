-- 成长档案 entries: awards and notes written by staff, kept when removed (removed_at).
CREATE TABLE "growth_entries" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "kind" VARCHAR(10) NOT NULL,
    "date" DATE NOT NULL,
    "title" VARCHAR(100) NOT NULL,
    "detail" TEXT,
    "author_username" TEXT NOT NULL,
    "author_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "removed_at" TIMESTAMPTZ(3),
    "removed_by" TEXT,
    CONSTRAINT "growth_entries_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "growth_entries_child_id_date_idx" ON "growth_entries"("child_id", "date");
ALTER TABLE "growth_entries" ADD CONSTRAINT "growth_entries_child_id_fkey" FOREIGN KEY ("child_id") REFERENCES "children"("id") ON DELETE CASCADE ON UPDATE CASCADE;
