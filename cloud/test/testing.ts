/** `@tusafishe/cloud/testing`: fixtures for tests of the cloud and of parts that use it. */
export { backends, freshPglite, startTestCloud, stopTestCloud, type Backend } from './backends.js';
export { signInAs, TEST_OPERATOR_PASSWORD, type ConsoleSession } from './console-session.js';
export { haproxyInstalled, loadBalancer, type RunningLoadBalancer } from './load-balancer.js';
export { dial } from './africas-talking.js';
export { lastSmsCode } from './sms-code.js';
