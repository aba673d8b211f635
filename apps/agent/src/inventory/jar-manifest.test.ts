import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nameFromPath } from './library-name';
import { parseManifest } from './jar-manifest';

test('a manifest main section: attributes, continuation lines, and nothing after the blank line', () => {
  const text = [
    'Manifest-Version: 1.0',
    'Implementation-Title: Apache Log4j Co',
    ' re',
    'Implementation-Version: 2.14.1',
    'Bundle-SymbolicName: org.apache.logging.log4j.core;singleton:=true',
    '',
    'Name: org/apache/',
    'Implementation-Version: 9.9.9',
  ].join('\r\n');
  const attributes = parseManifest(text);
  assert.equal(attributes.get('Implementation-Title'), 'Apache Log4j Core');
  assert.equal(attributes.get('Implementation-Version'), '2.14.1');
  assert.equal(attributes.get('Name'), undefined);
});

test('names and versions from file names of jars and shared objects', () => {
  assert.deepEqual(nameFromPath('/app/lib/log4j-core-2.14.1.jar'), {
    name: 'log4j-core',
    version: '2.14.1',
  });
  assert.deepEqual(nameFromPath('/app/lib/spring-core-5.3.9.RELEASE.jar'), {
    name: 'spring-core',
    version: '5.3.9.RELEASE',
  });
  assert.deepEqual(nameFromPath('/app/app.war'), { name: 'app' });
  assert.deepEqual(nameFromPath('/usr/lib/x86_64-linux-gnu/libssl.so.3'), {
    name: 'ssl',
    version: '3',
  });
  assert.deepEqual(nameFromPath('/usr/lib/libfoo-1.2.so'), { name: 'foo', version: '1.2' });
  assert.deepEqual(nameFromPath('/opt/x/plugin.so'), { name: 'plugin' });
  assert.equal(nameFromPath('/etc/passwd'), undefined);
});
