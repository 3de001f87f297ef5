-- AlterTable
ALTER TABLE "children" ADD COLUMN     "class_name" TEXT,
ADD COLUMN     "grade" TEXT,
ADD COLUMN     "school_id" TEXT,
ADD COLUMN     "school_name" TEXT;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "receipt" VARCHAR(10),
ADD COLUMN     "receipt_at" TIMESTAMPTZ(3),
ADD COLUMN     "receipt_error" TEXT;

-- CreateTable
CREATE TABLE "letters" (
    "id" UUID NOT NULL,
    "org_unit" VARCHAR(12) NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "scope" JSONB NOT NULL,
    "categories" TEXT[],
    "status" VARCHAR(10) NOT NULL,
    "created_by" VARCHAR(100) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_by" VARCHAR(100),
    "sent_at" TIMESTAMPTZ(3),
    "withdrawn_at" TIMESTAMPTZ(3),
    "recipients" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "letters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "letter_recipients" (
    "id" UUID NOT NULL,
    "letter_id" UUID NOT NULL,
    "phone" VARCHAR(20) NOT NULL,
    "name" TEXT,
    "category" VARCHAR(10) NOT NULL,
    "child_ids" UUID[],
    "child_names" TEXT NOT NULL,
    "school_id" TEXT,
    "school_name" TEXT,
    "class_label" TEXT,
    "code_hash" VARCHAR(64) NOT NULL,
    "message_id" UUID NOT NULL,
    "first_read_at" TIMESTAMPTZ(3),
    "last_read_at" TIMESTAMPTZ(3),
    "reads" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "letter_recipients_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "letters_org_unit_created_at_idx" ON "letters"("org_unit", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "letter_recipients_code_hash_key" ON "letter_recipients"("code_hash");

-- CreateIndex
CREATE UNIQUE INDEX "letter_recipients_message_id_key" ON "letter_recipients"("message_id");

-- CreateIndex
CREATE UNIQUE INDEX "letter_recipients_letter_id_phone_key" ON "letter_recipients"("letter_id", "phone");
