#include "domain/error.h"

#include <stdexcept>

namespace caseledger::domain {

void throw_exception_from_error(const Error& e, const boost::source_location& loc) {
  throw std::logic_error(std::string("value() on an error result at ") + loc.file_name() + ":" +
                         std::to_string(loc.line()) + ": " + e.message);
}

}  // namespace caseledger::domain
