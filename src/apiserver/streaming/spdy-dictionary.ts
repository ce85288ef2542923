/**
 * The preset zlib dictionary of SPDY/3 header compression (draft 3, section 2.6.10.1): HTTP's
 * common header names, each as a 32-bit big-endian length and the name, then common values
 * run together. Both ends must use the same 1,423 bytes (the test pins their SHA-256).
 */
const NAMES =
  'options head post put delete trace accept accept-charset accept-encoding accept-language ' +
  'accept-ranges age allow authorization cache-control connection content-base content-encoding ' +
  'content-language content-length content-location content-md5 content-range content-type date ' +
  'etag expect expires from host if-match if-modified-since if-none-match if-range ' +
  'if-unmodified-since last-modified location max-forwards pragma proxy-authenticate ' +
  'proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade ' +
  'user-agent vary via warning www-authenticate method get status 200_OK version HTTP/1.1 url ' +
  'public set-cookie keep-alive origin';

const VALUES =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request' +
  '401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented' +
  '503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ' +
  'Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,' +
  'application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=' +
  'gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

function build(): Buffer {
  const parts: Buffer[] = [];
  // one name has a space in it, written `_` in the list above
  for (const name of NAMES.split(' ').map((n) => n.replace('_', ' '))) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(name.length);
    parts.push(len, Buffer.from(name, 'latin1'));
  }
  parts.push(Buffer.from(VALUES, 'latin1'));
  return Buffer.concat(parts);
}

export const SPDY3_DICTIONARY: Buffer = build();
