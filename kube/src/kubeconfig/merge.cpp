// Merging the KUBECONFIG list: the first file to name a key wins it whole.
#include "kubeconfig/model.hpp"

namespace rebound::kube::detail {

void merge_into(Kubeconfig& into, Kubeconfig next) {
  for (auto& f : next.files) into.files.push_back(std::move(f));
  if (into.current_context.empty() && !next.current_context.empty()) {
    into.current_context = std::move(next.current_context);
    into.current_context_origin = std::move(next.current_context_origin);
  }
  // map::insert leaves an existing key alone: earlier files win.
  into.clusters.insert(std::make_move_iterator(next.clusters.begin()), std::make_move_iterator(next.clusters.end()));
  into.users.insert(std::make_move_iterator(next.users.begin()), std::make_move_iterator(next.users.end()));
  into.contexts.insert(std::make_move_iterator(next.contexts.begin()), std::make_move_iterator(next.contexts.end()));
}

}  // namespace rebound::kube::detail
