export { runService, type ServiceDefinition, type ServiceContext, type ServiceParts, type RunningService } from "./run-service.js";
