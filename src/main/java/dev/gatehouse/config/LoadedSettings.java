package dev.gatehouse.config;

import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The value of every setting as one load read it, kept with the {@link GatehouseConfig} built from
 * it: so that a reload can tell which settings changed ({@link #changedFrom}) and build the config
 * that keeps the running value of the settings that need a restart ({@link ConfigLoader#reloaded}).
 * Immutable; two are equal when every setting has the same value.
 */
public final class LoadedSettings {

  private final SettingValues values;

  LoadedSettings(SettingValues values) {
    this.values = values;
  }

  SettingValues values() {
    return values;
  }

  /** These settings with those {@code keep} names taken from {@code running}. */
  LoadedSettings with(LoadedSettings running, Predicate<String> keep) {
    return new LoadedSettings(values.with(running.values, keep));
  }

  /** The settings whose value differs from {@code before}'s, in schema order ({@link Settings}). */
  public List<String> changedFrom(LoadedSettings before) {
    return Settings.ALL.stream()
        .map(Setting::path)
        .filter(path -> !Objects.equals(values.value(path), before.values.value(path)))
        .toList();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof LoadedSettings other && changedFrom(other).isEmpty();
  }

  @Override
  public int hashCode() {
    int h = 1;
    for (Setting s : Settings.ALL) {
      h = 31 * h + Objects.hashCode(values.value(s.path()));
    }
    return h;
  }

  /** Not the values: some name a webhook URL, which may carry a token. */
  @Override
  public String toString() {
    return "LoadedSettings[" + Settings.ALL.size() + " settings]";
  }
}
