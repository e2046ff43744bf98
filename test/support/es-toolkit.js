// `es-toolkit` under Jest: see lazy-package-index.js.
'use strict';
module.exports = require('./lazy-package-index').lazyPackageIndex('es-toolkit', (path) => require(path));
