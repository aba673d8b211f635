import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small web service that logs a request header through message lookups, the way a
 * vulnerable Log4j 2 (before 2.15) did. It reproduces what the exploit does to processes and
 * to the network, not the library itself:
 *
 * <ul>
 *   <li>a logged string containing {@code ${jndi:ldap://HOST:PORT/NAME}} makes the service
 *       connect to HOST:PORT and ask for NAME, as a JNDI lookup asks an LDAP directory;</li>
 *   <li>the directory's answer names a factory and carries a command, standing in for the
 *       remote class whose static initialiser runs on loading;</li>
 *   <li>the "loaded class" runs that command with {@code Runtime.exec}, so the command becomes
 *       a child of this JVM, exactly where a real exploit's payload appears.</li>
 * </ul>
 *
 * Lookups are honoured only for loopback addresses: this is a laboratory, never a way to
 * reach another host.
 *
 * <p>Usage: {@code java LookupService [PORT]}. Prints {@code listening on 127.0.0.1:PORT}
 * once it accepts requests (PORT 0, the default, picks a free one).
 */
public final class LookupService {
  private static final Pattern LOOKUP = Pattern.compile("\\$\\{([a-z]+):([^}]*)\\}");
  private static final int DIRECTORY_TIMEOUT_MS = 5_000;

  public static void main(String[] args) throws IOException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    InetAddress loopback = InetAddress.getLoopbackAddress();
    HttpServer server = HttpServer.create(new InetSocketAddress(loopback, port), 16);
    server.createContext("/", LookupService::handle);
    server.start();
    System.out.println("listening on 127.0.0.1:" + server.getAddress().getPort());
    System.out.flush();
  }

  private static void handle(HttpExchange exchange) throws IOException {
    String version = exchange.getRequestHeaders().getFirst("X-Api-Version");
    String agent = exchange.getRequestHeaders().getFirst("User-Agent");
    log("request " + exchange.getRequestURI().getPath() + " api version " + version
        + " from " + agent);
    byte[] body = "ok\n".getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  /** Logs a message after substituting its lookups, as the vulnerable logger did. */
  private static void log(String message) {
    Matcher lookups = LOOKUP.matcher(message);
    StringBuilder resolved = new StringBuilder();
    while (lookups.find()) {
      String value = lookup(lookups.group(1), lookups.group(2));
      lookups.appendReplacement(resolved, Matcher.quoteReplacement(value));
    }
    lookups.appendTail(resolved);
    System.out.println(Instant.now() + " INFO " + resolved);
    System.out.flush();
  }

  private static String lookup(String scheme, String argument) {
    switch (scheme) {
      case "java":
        return "version".equals(argument) ? System.getProperty("java.version") : "";
      case "jndi":
        return jndiLookup(argument);
      default:
        return "${" + scheme + ":" + argument + "}";
    }
  }

  private static String jndiLookup(String address) {
    try {
      URI uri = new URI(address);
      if (!"ldap".equals(uri.getScheme())) return "";
      InetAddress host = InetAddress.getByName(uri.getHost());
      if (!host.isLoopbackAddress()) {
        System.err.println("refusing a lookup outside loopback: " + uri.getHost());
        return "";
      }
      String name = uri.getPath().replaceFirst("^/", "");
      DirectoryEntry entry = askDirectory(new InetSocketAddress(host, uri.getPort()), name);
      if (entry.factory != null && entry.command != null) loadFactory(entry);
      return entry.factory == null ? "" : entry.factory;
    } catch (Exception error) {
      System.err.println("lookup of " + address + " failed: " + error);
      return "";
    }
  }

  /** What the directory answered: `factory: NAME` and `command: TEXT` lines. */
  private static final class DirectoryEntry {
    String factory;
    String command;
  }

  private static DirectoryEntry askDirectory(InetSocketAddress directory, String name)
      throws IOException {
    DirectoryEntry entry = new DirectoryEntry();
    try (Socket socket = new Socket()) {
      socket.connect(directory, DIRECTORY_TIMEOUT_MS);
      socket.setSoTimeout(DIRECTORY_TIMEOUT_MS);
      Writer request = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
      request.write("search " + name + "\n");
      request.flush();
      BufferedReader reply = new BufferedReader(
          new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      for (String line = reply.readLine(); line != null && !line.isEmpty();
          line = reply.readLine()) {
        if (line.startsWith("factory: ")) entry.factory = line.substring(9);
        if (line.startsWith("command: ")) entry.command = line.substring(9);
      }
    }
    return entry;
  }

  /**
   * Stands in for loading the remote factory class: its static initialiser would run the
   * attacker's command, which is what happens here, through the same Runtime.exec.
   */
  private static void loadFactory(DirectoryEntry entry) throws IOException {
    PrintStream log = System.out;
    log.println(Instant.now() + " loading factory " + entry.factory);
    Runtime.getRuntime().exec(new String[] {"bash", "-c", entry.command});
  }

  private LookupService() {}
}
