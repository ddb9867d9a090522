// Signed Face Liveness client messages from the AWS SDK for JavaScript's own signer, for
// tests/test_liveness.py to verify recognito's chunk-signature check against an implementation
// that is not ours. It does what Amplify's FaceLivenessDetector does through
// @aws-sdk/middleware-websocket: presign the WebSocket URL (WebsocketSignatureV4: empty body,
// only `host` signed), then sign each event-stream message as getEventSigningTransformStream does
// (a `:date` header, the signature of the message chained on the one before, the URL's first).
//
//   npm install @smithy/signature-v4 @smithy/eventstream-codec @aws-crypto/sha256-js \
//     @smithy/util-utf8 @smithy/util-hex-encoding
//   node bench/liveness_sign_vectors.mjs > tests/liveness_signed_stream.json
import { Sha256 } from "@aws-crypto/sha256-js";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { SignatureV4 } from "@smithy/signature-v4";
import { fromHex, toHex } from "@smithy/util-hex-encoding";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

const credentials = { accessKeyId: "AKIDEXAMPLELIVENESS", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const signer = new SignatureV4({ credentials, region: "us-east-1", service: "rekognition", sha256: Sha256 });
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const host = "127.0.0.1:8765";
const start = new Date(Date.UTC(2026, 11, 3, 18, 30, 0, 250));

const presigned = await signer.presign(
  {
    method: "GET",
    protocol: "ws:",
    hostname: "127.0.0.1",
    port: 8765,
    path: "/start-face-liveness-session-websocket",
    query: {
      "session-id": "3f9b8c2e-1d4a-4b6f-9e7c-2a5d8f0b1c3e",
      "video-width": "640",
      "video-height": "480",
      "challenge-versions": "FaceMovementAndLightChallenge_2.0.0,FaceMovementChallenge_1.0.0",
    },
    headers: { host },
    body: "",
  },
  { signingDate: start, expiresIn: 60 }
);

const event = (type, body) =>
  codec.encode({
    headers: {
      ":message-type": { type: "string", value: "event" },
      ":event-type": { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
    },
    body: fromUtf8(JSON.stringify(body)),
  });

const inner = [
  event("ClientSessionInformationEvent", {
    Challenge: { FaceMovementAndLightChallenge: { VideoStartTimestamp: start.getTime() } },
  }),
  event("VideoEvent", { VideoChunk: Buffer.from("\x1aE\xdf\xa3 webm").toString("base64"), TimestampMillis: start.getTime() + 100 }),
  new Uint8Array(0), // the end of the stream: an empty signed message
];

let priorSignature = presigned.query["X-Amz-Signature"];
const messages = [];
for (const [n, body] of inner.entries()) {
  const now = new Date(start.getTime() + 1000 * (n + 1) + 7);
  const dateHeader = { ":date": { type: "timestamp", value: now } };
  const signed = await signer.sign({ message: { body, headers: dateHeader }, priorSignature }, { signingDate: now });
  priorSignature = signed.signature;
  const envelope = codec.encode({
    headers: { ...dateHeader, ":chunk-signature": { type: "binary", value: fromHex(signed.signature) } },
    body,
  });
  messages.push(toHex(envelope));
}

const query = Object.entries(presigned.query).map(([k, v]) => [k, v]);
console.log(JSON.stringify({ generator: "bench/liveness_sign_vectors.mjs (@smithy/signature-v4)", host, path: presigned.path, query, secret: credentials.secretAccessKey, messages }, null, 1));
