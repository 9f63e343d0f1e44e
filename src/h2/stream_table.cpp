// StreamTable: nghttp2's stream user data first, a walk of our own slots
// when nghttp2 does not know the stream.
#include "h2/stream_table.hpp"

#include <memory>

namespace rebound::h2 {

StreamTable::Slot* StreamTable::prepare() {
  if (spare_.empty()) {
    owned_.push_back(std::make_unique<Slot>());
    spare_.push_back(owned_.back().get());
  }
  Slot* s = spare_.back();
  spare_.pop_back();
  return s;
}

StreamState& StreamTable::open(Slot* s, std::int32_t sid) noexcept {
  s->entry.first = sid;
  s->open = true;
  s->index = live_.size();
  live_.push_back(s);
  return s->entry.second;
}

void StreamTable::discard(Slot* s) { spare_.push_back(s); }

StreamTable::Slot* StreamTable::find_slot(std::int32_t sid) noexcept {
  if (last_found_ && last_found_->entry.first == sid) return last_found_;  // open: unlink() forgets it
  // A slot nghttp2 still points to may have been closed and reused since:
  // the id says whether it is this stream's (ids are never reused).
  auto* s = session_ ? static_cast<Slot*>(nghttp2_session_get_stream_user_data(session_, sid)) : nullptr;
  if (!(s && s->open && s->entry.first == sid)) {
    s = nullptr;
    for (Slot* o : live_)
      if (o->entry.first == sid) s = o;
  }
  if (s) last_found_ = s;
  return s;
}

StreamState* StreamTable::find(std::int32_t sid) noexcept {
  Slot* s = find_slot(sid);
  return s ? &s->entry.second : nullptr;
}

void StreamTable::unlink(Slot* s) noexcept {
  if (last_found_ == s) last_found_ = nullptr;
  Slot* last = live_.back();
  live_[s->index] = last;
  last->index = s->index;
  live_.pop_back();
  s->open = false;
}

void StreamTable::recycle(Slot* s) {
  // Destroyed and made anew in place (an assignment from a fresh state
  // moved every member twice): what it held goes now, not at reuse.
  std::destroy_at(&s->entry.second);
  std::construct_at(&s->entry.second);
  s->entry.first = 0;
  spare_.push_back(s);
}

void StreamTable::clear() {
  while (!live_.empty()) {
    Slot* s = live_.back();
    unlink(s);
    recycle(s);
  }
}

}  // namespace rebound::h2
