-- AlterTable
ALTER TABLE "visit_records" ADD COLUMN     "via" VARCHAR(20);

-- CreateTable
CREATE TABLE "used_task_links" (
    "token_id" VARCHAR(16) NOT NULL,
    "item_id" UUID NOT NULL,
    "record_id" UUID NOT NULL,
    "used_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "used_task_links_pkey" PRIMARY KEY ("token_id")
);

-- CreateTable
CREATE TABLE "task_link_uses" (
    "id" UUID NOT NULL,
    "token_id" VARCHAR(16),
    "item_id" UUID,
    "child_id" UUID,
    "action" VARCHAR(10) NOT NULL,
    "outcome" VARCHAR(20) NOT NULL,
    "address" VARCHAR(64),
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "task_link_uses_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "task_link_uses_token_id_idx" ON "task_link_uses"("token_id");

-- CreateIndex
CREATE INDEX "task_link_uses_item_id_idx" ON "task_link_uses"("item_id");
