# Sourced by ./gatehouse and ./run-tests: find a JDK 21 or newer.

java_major() { # prints the major version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

find_jdk() { # prints a JAVA_HOME whose java is 21 or newer and which has javac, or fails
  local c v candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    if [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ]; then
      v="$(java_major "$c/bin/java")"
      if [ -n "$v" ] && [ "$v" -ge 21 ]; then
        echo "$c"
        return 0
      fi
    fi
  done
  return 1
}

require_jdk() { # like find_jdk, but explains how to get one when there is none
  if find_jdk; then
    return 0
  fi
  cat >&2 <<'MSG'
gatehouse: no JDK 21 or newer found (looked at JAVA_HOME, the java on PATH and /usr/lib/jvm).
Install one, for example:
  Debian/Ubuntu:  sudo apt-get install openjdk-21-jdk   (or temurin-21-jdk from Adoptium)
  macOS:          brew install openjdk@21
  any system:     https://adoptium.net
then run this again, or point JAVA_HOME at it.
MSG
  return 1
}
