package dev.gatehouse.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.gatehouse.limit.RequestCaps;
import dev.gatehouse.limit.SpliceCheck;
import java.io.IOException;
import java.util.List;

/**
 * Fuzzes the byte splice limit.admit makes when the caps or the usage request change a body.
 * limit.admit does not read a spliced body again: it hands the later readers (the audit record, the
 * probe scoring) the edited policy fields the splice was made from. Invariants, for any body, on
 * every route the caps read, in every caps mode, with and without a key's own cap: a spliced body
 * is one well-formed object with no repeated name, parses to what the full-tree rewrite writes, and
 * scans to exactly the edited policy fields ({@link SpliceCheck#compare}).
 */
class SpliceFuzzTest {

  private static final List<RequestCaps> CAPS =
      SpliceCheck.CAPS.stream().map(RequestCaps::new).toList();

  @FuzzTest(maxDuration = "15s")
  void splice(byte[] body) throws IOException {
    for (RequestCaps caps : CAPS) {
      for (String path : SpliceCheck.PATHS) {
        SpliceCheck.compare(body, List.of(), path, caps, null);
        SpliceCheck.compare(body, List.of(), path, caps, 1);
      }
    }
  }
}
