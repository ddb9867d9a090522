import React from 'react';
import { createRoot } from 'react-dom/client';
import { FaceLivenessDetector } from '@aws-amplify/ui-react-liveness';
import '@aws-amplify/ui-react/styles.css';

const q = new URLSearchParams(location.search);
const log = (...a) => { console.log('LV', ...a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))); };
window.__lv = { done: false };

function App() {
  return (
    <FaceLivenessDetector
      sessionId={q.get('session')}
      region="us-east-1"
      disableStartScreen={true}
      onAnalysisComplete={async () => { log('onAnalysisComplete'); window.__lv.done = 'complete'; }}
      onError={(e) => { log('onError', e && e.state, String(e && e.error), e && e.error && e.error.stack); window.__lv.done = 'error'; }}
      onUserCancel={() => { log('cancel'); window.__lv.done = 'cancel'; }}
      config={{
        endpointOverride: q.get('endpoint'),
        binaryPath: location.origin + '/',
        faceModelUrl: location.origin + '/model/model.json',
        credentialProvider: async () => ({ accessKeyId: 'test', secretAccessKey: 'test' }),
      }}
    />
  );
}
createRoot(document.getElementById('root')).render(<App />);
