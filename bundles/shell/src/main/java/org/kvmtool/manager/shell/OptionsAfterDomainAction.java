package org.kvmtool.manager.shell;

import java.util.List;

import org.apache.karaf.shell.api.action.Argument;

/**
 * A command whose virsh twin takes its options after the domain ("domstate vm --reason"). Subclasses declare the
 * domain as argument 0 (with the completer that fits them) and their options; what follows the domain lands here.
 */
abstract class OptionsAfterDomainAction extends DomainAction {
    @Argument(index = 1, name = "options", description = "virsh's options may also follow the domain", multiValued = true)
    List<String> trailing;

    @Override
    final List<String> trailingOptions() {
        return trailing;
    }
}
