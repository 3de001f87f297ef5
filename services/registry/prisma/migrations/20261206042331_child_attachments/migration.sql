-- CreateTable
CREATE TABLE "child_attachments" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "file_name" TEXT NOT NULL,
    "content_type" VARCHAR(64) NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" VARCHAR(64) NOT NULL,
    "object_key" TEXT NOT NULL,
    "thumbnail_key" TEXT,
    "note" TEXT,
    "uploaded_by" TEXT NOT NULL,
    "uploaded_by_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),
    "deleted_by" TEXT,
    "deleted_by_name" TEXT,
    "delete_reason" TEXT,

    CONSTRAINT "child_attachments_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "child_attachments_child_id_created_at_idx" ON "child_attachments"("child_id", "created_at");

-- CreateIndex
CREATE INDEX "child_attachments_expires_at_idx" ON "child_attachments"("expires_at");

-- AddForeignKey
ALTER TABLE "child_attachments" ADD CONSTRAINT "child_attachments_child_id_fkey" FOREIGN KEY ("child_id") REFERENCES "children"("id") ON DELETE CASCADE ON UPDATE CASCADE;
