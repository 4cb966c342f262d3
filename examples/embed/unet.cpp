// unet.cpp - run a compiled UNet from C++: weights read into memory, the
// instance owned by a small RAII class, errors thrown as exceptions.
//
//   convc examples/unet.conv -c -o unet.o --header unet.h
//   c++ -I. unet.cpp unet.o $(pkg-config --cflags --libs convrt) -o unet_cpp
//   ./unet_cpp WEIGHTS.safetensors X.bin Y.bin BATCH
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "unet.h"

class Unet {
public:
    Unet(const std::vector<char> &weights, int threads)
    {
        ConvcError err;
        if (unet_open_memory(weights.data(), weights.size(), threads, &inst_, &err) != CONVC_OK)
            throw std::runtime_error(err.message);
    }
    ~Unet() { unet_close(inst_); }
    Unet(const Unet &) = delete;
    Unet &operator=(const Unet &) = delete;

    static ConvcTensorInfo input() { ConvcTensorInfo t; unet_input_info(0, &t); return t; }
    static ConvcTensorInfo output() { ConvcTensorInfo t; unet_output_info(0, &t); return t; }

    std::vector<float> operator()(const std::vector<float> &x, int64_t batch)
    {
        std::vector<float> y(static_cast<size_t>(batch * output().size));
        const float *in[] = {x.data()};
        float *out[] = {y.data()};
        size_t nx = x.size(), ny = y.size();
        if (unet_run(inst_, batch, in, &nx, out, &ny) != CONVC_OK)
            throw std::runtime_error(unet_error(inst_));
        return y;
    }

private:
    ConvcInstance *inst_ = nullptr;
};

static std::vector<char> read_file(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw std::runtime_error("cannot read " + path);
    return std::vector<char>(std::istreambuf_iterator<char>(f), {});
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        std::cerr << "usage: " << argv[0] << " WEIGHTS X.bin Y.bin BATCH\n";
        return 2;
    }
    try {
        int64_t batch = std::stoll(argv[4]);
        Unet net(read_file(argv[1]), 2);
        std::vector<char> bytes = read_file(argv[2]);
        std::vector<float> x(bytes.size() / sizeof(float));
        std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char *>(x.data()));
        std::vector<float> y = net(x, batch);
        std::ofstream(argv[3], std::ios::binary).write(reinterpret_cast<const char *>(y.data()),
                                                       static_cast<std::streamsize>(y.size() * sizeof(float)));
        std::cout << "c++: " << y.size() << " floats out\n";
        // a wrong batch size is an exception with the runtime's message, not a crash
        try {
            net(x, batch + 1);
        } catch (const std::exception &e) {
            std::cout << "c++: caught: " << e.what() << "\n";
        }
    } catch (const std::exception &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
