// Minimal types for the parts of @20minutes/s3rver this package uses (it ships none).
declare module "@20minutes/s3rver" {
  interface S3rverOptions {
    address?: string;
    port?: number;
    directory?: string;
    silent?: boolean;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: unknown[] }[];
  }
  interface KoaContext {
    method: string;
    req: { url?: string; headers: Record<string, string | string[] | undefined> };
  }
  class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    /** Koa's middleware list; composed when the server starts listening. */
    middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[];
    close(): Promise<void>;
  }
  export default S3rver;
}
declare module "@20minutes/s3rver/lib/models/account.js" {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  }
  const account: { DUMMY_ACCOUNT: AWSAccount };
  export default account;
}
declare module "@20minutes/s3rver/lib/models/error.js" {
  /** s3rver's error: thrown from a middleware it answers with the code's status and S3's XML error body. */
  class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
  }
  export default S3Error;
}
