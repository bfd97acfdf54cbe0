// Rule: `Embedding` reads a category input and has a vector for each of its
// categories. Why: an index beyond the table, or features read as indices,
// fail at run time in PyTorch; here each is a compile error on its token.

use macrograd::prelude::*;

model! {
    struct Net;
    input measurements: 4;
    input island: category(3);
    input sex: category(2);
    concat {
        measurements => Embedding(4, 2);
        island => Embedding(2, 2);
        sex => Embedding(2, 1);
    }
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

fn main() {
    let _ = Net::new();
}
