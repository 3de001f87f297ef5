-- CreateTable
CREATE TABLE "org_units" (
    "code" VARCHAR(12) NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "org_units_pkey" PRIMARY KEY ("code")
);
