-- Photos of activity sessions (the objects live in the S3 bucket; rows point at them).
CREATE TABLE "session_photos" (
    "id" UUID NOT NULL,
    "session_id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
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

    CONSTRAINT "session_photos_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "session_photos_session_id_created_at_idx" ON "session_photos"("session_id", "created_at");
CREATE INDEX "session_photos_expires_at_idx" ON "session_photos"("expires_at");
