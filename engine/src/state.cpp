#include "plsim/state.hpp"

#include <algorithm>

#include <tbb/parallel_for.h>

namespace plsim {

void grow_student_columns(State& state) {
  const std::size_t capacity = state.students.id.capacity() + state.students.id.capacity() / 2 + 1024;
  state.students.for_each_column([&](auto& column) {
    using Column = std::decay_t<decltype(column)>;
    auto old = std::make_shared<Column>(std::move(column));
    column = Column();
    column.reserve(capacity);
    column.assign(old->begin(), old->end());
    state.retired_columns.push_back(std::move(old));
  });
}

namespace {
// Gathers in parallel (a national population has 50 million students and 40 columns); the order of
// the writes does not matter, each element is written once.
template <class T>
void permute(std::vector<T>& column, const std::vector<std::uint32_t>& order) {
  std::vector<T> gathered(order.size());
  const tbb::blocked_range<std::size_t> all(0, order.size(), 1 << 14);
  tbb::parallel_for(all, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) gathered[i] = column[order[i]];
  });
  column.resize(order.size());
  tbb::parallel_for(all, [&](const tbb::blocked_range<std::size_t>& r) {
    std::copy(gathered.begin() + r.begin(), gathered.begin() + r.end(), column.begin() + r.begin());
  });
}
}  // namespace

void permute_students(StudentColumns& students, const std::vector<std::uint32_t>& order) {
  students.for_each_column([&](auto& column) { permute(column, order); });
}

}  // namespace plsim
