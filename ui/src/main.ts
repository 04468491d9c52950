import './tusafishe-app.js';
