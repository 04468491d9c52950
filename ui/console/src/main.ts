import './console-app.js';
