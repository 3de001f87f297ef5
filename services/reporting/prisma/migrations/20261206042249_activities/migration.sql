-- CreateTable
CREATE TABLE "activities" (
    "id" UUID NOT NULL,
    "site_id" UUID NOT NULL,
    "org_unit" VARCHAR(12) NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "kind" VARCHAR(20) NOT NULL,
    "date" DATE NOT NULL,
    "attendance" INTEGER NOT NULL,

    CONSTRAINT "activities_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "activities_township_code_date_idx" ON "activities"("township_code", "date");
