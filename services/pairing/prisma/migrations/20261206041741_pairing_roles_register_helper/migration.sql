-- AlterTable
ALTER TABLE "children" ADD COLUMN     "register_helper_name" TEXT,
ADD COLUMN     "register_match_issue" VARCHAR(20);

-- AlterTable
ALTER TABLE "pairings" ADD COLUMN     "role" VARCHAR(10) NOT NULL DEFAULT 'primary';

-- Written by hand (Prisma cannot declare partial indexes).
-- A child has at most one open pairing of each kind and role: one primary mentor (主要帮扶人),
-- one secondary (协助帮扶人), one peer buddy; never two proposals for the same need.
DROP INDEX "pairings_one_open_per_child_kind";
CREATE UNIQUE INDEX "pairings_one_open_per_child_kind_role" ON "pairings"("child_id", "kind", "role") WHERE "status" IN ('proposed', 'active');
