-- CreateTable
CREATE TABLE "visit_photos" (
    "id" UUID NOT NULL,
    "record_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "file_name" TEXT NOT NULL,
    "content_type" VARCHAR(64) NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" VARCHAR(64) NOT NULL,
    "object_key" TEXT NOT NULL,
    "thumbnail_key" TEXT,
    "uploaded_by" TEXT NOT NULL,
    "uploaded_by_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),
    "deleted_by" TEXT,
    "delete_reason" TEXT,

    CONSTRAINT "visit_photos_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "visit_photos_record_id_created_at_idx" ON "visit_photos"("record_id", "created_at");

-- CreateIndex
CREATE INDEX "visit_photos_expires_at_idx" ON "visit_photos"("expires_at");
