-- AlterTable
ALTER TABLE "current_pairings" DROP CONSTRAINT "current_pairings_pkey",
ADD COLUMN     "role" VARCHAR(10) NOT NULL DEFAULT 'primary',
ADD CONSTRAINT "current_pairings_pkey" PRIMARY KEY ("child_id", "kind", "role");
