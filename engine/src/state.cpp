#include "plsim/state.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>

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
// Gathers in parallel (a national population has 50 million students and 40 columns) into one
// scratch buffer shared by every column (one allocation, not one per column: page faults were a large
// part of a national year transition); the order of the writes does not matter, each element is written
// once.
template <class T>
void permute(std::vector<T>& column, const std::vector<std::uint32_t>& order, std::byte* scratch) {
  static_assert(sizeof(T) <= sizeof(std::uint64_t) && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  T* gathered = static_cast<T*>(static_cast<void*>(scratch));  // bytes from new[]: implicitly T objects
  const tbb::blocked_range<std::size_t> all(0, order.size(), 1 << 14);
  tbb::parallel_for(all, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) gathered[i] = column[order[i]];
  });
  column.resize(order.size());
  tbb::parallel_for(all, [&](const tbb::blocked_range<std::size_t>& r) {
    std::copy(gathered + r.begin(), gathered + r.end(), column.begin() + r.begin());
  });
}
}  // namespace

void permute_students(StudentColumns& students, const std::vector<std::uint32_t>& order) {
  // Room for the widest column; left uninitialised (every element is written before it is read).
  const std::unique_ptr<std::byte[]> scratch(new std::byte[order.size() * sizeof(std::uint64_t)]);
  students.for_each_column([&](auto& column) { permute(column, order, scratch.get()); });
}

}  // namespace plsim
