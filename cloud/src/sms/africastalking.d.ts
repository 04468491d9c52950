/** The part of the untyped `africastalking` package the cloud uses. */
declare module 'africastalking' {
  interface SmsSendResult {
    SMSMessageData: {
      Message: string;
      Recipients: { number: string; status: string; statusCode: number; messageId: string }[];
    };
  }
  interface AfricasTalkingClient {
    SMS: { send(params: { to: string[]; message: string; from?: string }): Promise<SmsSendResult> };
  }
  export default function africastalking(options: { apiKey: string; username: string }): AfricasTalkingClient;
}
