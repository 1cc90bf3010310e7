// SPDX-License-Identifier: BSD-3-Clause
// Publishes a vtkRenderWindow with vtkSharedMemoryRenderWindowPublisher and
// reads it back through the C API: orientation (a red quad in the top half, a
// green one in the bottom-left quarter), exact pixels against the window's
// own read-back, resizes (also past the file's first size), MaximumRate and
// Stop().
//   TestSharedMemoryRenderWindowPublisher [STREAM_FILE]
// With --bench WxH [FRAMES] it measures instead (for bench_plugin.py): the
// bare read-back of the window into memory (GetPixelData) against a publish
// (acquire, read-back into the shared buffer, publish), without rendering.
#include "vtkSharedMemoryRenderWindowPublisher.h"

#include "vtkActor2D.h"
#include "vtkCellArray.h"
#include "vtkCoordinate.h"
#include "vtkNew.h"
#include "vtkPoints.h"
#include "vtkPolyData.h"
#include "vtkPolyDataMapper2D.h"
#include "vtkProperty2D.h"
#include "vtkRenderWindow.h"
#include "vtkRenderer.h"
#include "vtkUnsignedCharArray.h"

#include "shared_memory_image_client_priv.h"
#include "smi_plugin_bench.h"

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <unistd.h>

namespace
{
// A 2-D quad covering [x0, x1) x [y0, y1) in normalized viewport coordinates.
void AddQuad(vtkRenderer* renderer, double x0, double y0, double x1, double y1, double r, double g,
  double b)
{
  vtkNew<vtkPoints> points;
  points->InsertNextPoint(x0, y0, 0);
  points->InsertNextPoint(x1, y0, 0);
  points->InsertNextPoint(x1, y1, 0);
  points->InsertNextPoint(x0, y1, 0);
  vtkNew<vtkCellArray> cells;
  const vtkIdType ids[4] = { 0, 1, 2, 3 };
  cells->InsertNextCell(4, ids);
  vtkNew<vtkPolyData> quad;
  quad->SetPoints(points);
  quad->SetPolys(cells);
  vtkNew<vtkCoordinate> coordinate;
  coordinate->SetCoordinateSystemToNormalizedViewport();
  vtkNew<vtkPolyDataMapper2D> mapper;
  mapper->SetInputData(quad);
  mapper->SetTransformCoordinate(coordinate);
  vtkNew<vtkActor2D> actor;
  actor->SetMapper(mapper);
  actor->GetProperty()->SetColor(r, g, b);
  renderer->AddActor2D(actor);
}

// Lock the newest frame (waiting up to 2 s) and check it against the window:
// size, stored as OpenGL reads it (bottom row first, and the frame says so:
// every byte equal to the window's own read-back, no flip; EnSight's layout:
// top row first), and upright as a client copies it out (the quads' colors
// at the right places).
bool CheckFrame(
  SharedMemoryImageStream client, vtkRenderWindow* window, const char* what, bool enSight = false)
{
  const int* size = window->GetActualSize();
  const int w = size[0], h = size[1];
  if (SharedMemoryImageStream_wait(client, 2000) != IMAGESTREAM_NOERROR)
  {
    std::fprintf(stderr, "%s: no frame published within 2 s\n", what);
    return false;
  }
  SharedMemoryFrame frame;
  SharedMemoryImageError err = SharedMemoryImageStream_lock(client, &frame);
  if (err != IMAGESTREAM_NOERROR)
  {
    std::fprintf(stderr, "%s: lock: %s\n", what, SharedMemoryImageStream_errorstring(err));
    return false;
  }
  bool ok = true;
  if (int(frame->iWidth) != w || int(frame->iHeight) != h)
  {
    std::fprintf(stderr, "%s: frame is %ux%u, the window %dx%d\n", what, frame->iWidth,
      frame->iHeight, w, h);
    ok = false;
  }
  uint32_t flags = 0;
  std::vector<unsigned char> upright(size_t(w) * h * 3);
  if (ok &&
    (SharedMemoryImageStream_frameflags(client, &flags) != IMAGESTREAM_NOERROR ||
      flags != (enSight ? 0u : IMAGESTREAM_FRAME_BOTTOMUP) ||
      SharedMemoryImageStream_copyframe(client, upright.data(), upright.size(), 0) !=
        IMAGESTREAM_NOERROR))
  {
    std::fprintf(stderr, "%s: the frame's flags are %u (or copyframe failed)\n", what, flags);
    ok = false;
  }
  if (ok)
  {
    auto pixel = [&](int x, int y) { return upright.data() + (size_t(y) * w + x) * 3; };
    const unsigned char* top = pixel(w / 2, 2);            // red quad: top half
    const unsigned char* bottomLeft = pixel(w / 8, h - 3); // green quad
    const unsigned char* bottomRight = pixel(w - 3, h - 3); // background: black
    if (!(top[0] == 255 && top[1] == 0 && top[2] == 0))
    {
      std::fprintf(stderr, "%s: the top row is %u,%u,%u, not red: frame upside down?\n", what,
        top[0], top[1], top[2]);
      ok = false;
    }
    if (!(bottomLeft[0] == 0 && bottomLeft[1] == 255 && bottomLeft[2] == 0))
    {
      std::fprintf(stderr, "%s: the bottom-left pixel is %u,%u,%u, not green\n", what,
        bottomLeft[0], bottomLeft[1], bottomLeft[2]);
      ok = false;
    }
    if (bottomRight[0] || bottomRight[1] || bottomRight[2])
    {
      std::fprintf(stderr, "%s: the bottom-right pixel is %u,%u,%u, not black\n", what,
        bottomRight[0], bottomRight[1], bottomRight[2]);
      ok = false;
    }
    vtkNew<vtkUnsignedCharArray> expected; // bottom row first
    window->GetPixelData(0, 0, w - 1, h - 1, window->GetSwapBuffers() ? 1 : 0, expected, 0);
    for (int y = 0; ok && y < h; ++y) // (y: stored rows, bottom first)
    {
      const size_t row = size_t(w) * 3;
      const size_t from = size_t(enSight ? h - 1 - y : y) * row;
      if (std::memcmp(frame->buffer + y * row, expected->GetPointer(from), row))
      {
        std::fprintf(stderr, "%s: stored row %d differs from the window's pixels\n", what, y);
        ok = false;
      }
    }
  }
  SharedMemoryImageStream_unlock(client);
  return ok;
}

int Run(const std::string& file)
{
  vtkNew<vtkRenderer> renderer;
  renderer->SetBackground(0, 0, 0);
  AddQuad(renderer, 0.0, 0.5, 1.0, 1.0, 1, 0, 0);   // top half: red
  AddQuad(renderer, 0.0, 0.0, 0.25, 0.5, 0, 1, 0); // bottom-left quarter: green
  vtkNew<vtkRenderWindow> window;
  window->SetOffScreenRendering(1);
  window->SetMultiSamples(0);
  window->AddRenderer(renderer);
  window->SetSize(160, 120);

  vtkNew<vtkSharedMemoryRenderWindowPublisher> publisher;
  publisher->SetRenderWindow(window);
  if (publisher->Start())
  {
    std::fprintf(stderr, "Start() without a file name succeeded\n");
    return EXIT_FAILURE;
  }
  publisher->SetFileName(file.c_str());
  if (!publisher->Start() || !publisher->IsPublishing())
  {
    std::fprintf(stderr, "Start() failed on %s\n", file.c_str());
    return EXIT_FAILURE;
  }

  SharedMemoryImageStream client = nullptr;
  SharedMemoryImageError err =
    SharedMemoryImageStream_create(file.c_str(), IMAGESTREAM_OPTIONS_ANYFORMAT, &client);
  if (err < IMAGESTREAM_NOERROR)
  {
    std::fprintf(stderr, "client: %s\n", SharedMemoryImageStream_errorstring(err));
    return EXIT_FAILURE;
  }
  bool ok = true;
  window->Render();
  ok = CheckFrame(client, window, "160x120") && ok;
  window->SetSize(333, 201); // odd sizes: rows not a multiple of 4 bytes
  window->Render();
  ok = CheckFrame(client, window, "333x201") && ok;

  // MaximumRate: of 10 renders in a row (well under a second), only the first.
  publisher->SetMaximumRate(1.0);
  const vtkIdType before = publisher->GetNumberOfPublishedFrames();
  for (int i = 0; i < 10; ++i)
  {
    window->Render();
  }
  const vtkIdType published = publisher->GetNumberOfPublishedFrames() - before;
  if (published != 1 || publisher->GetNumberOfSkippedFrames() < 9)
  {
    std::fprintf(stderr, "MaximumRate 1: %lld of 10 renders published, %lld skipped\n",
      static_cast<long long>(published),
      static_cast<long long>(publisher->GetNumberOfSkippedFrames()));
    ok = false;
  }
  ok = CheckFrame(client, window, "rate-limited") && ok;
  publisher->SetMaximumRate(0);

  // Past the file's first size (1920x1080): the file grows once no client maps it.
  SharedMemoryImageStream_destroy(client);
  client = nullptr;
  window->SetSize(2050, 1100);
  window->Render();
  err = SharedMemoryImageStream_create(file.c_str(), IMAGESTREAM_OPTIONS_ANYFORMAT, &client);
  if (err < IMAGESTREAM_NOERROR)
  {
    std::fprintf(stderr, "client after the resize: %s\n", SharedMemoryImageStream_errorstring(err));
    return EXIT_FAILURE;
  }
  ok = CheckFrame(client, window, "2050x1100") && ok;

  // The file truncated under the publisher and the client: the client's
  // handle gives an error (no SIGBUS); the next render serves the file anew
  // and a client attached again reads it.
  if (truncate(file.c_str(), 4096) != 0)
  {
    std::fprintf(stderr, "truncate failed\n");
    return EXIT_FAILURE;
  }
  SharedMemoryFrame dead = nullptr;
  if (SharedMemoryImageStream_lock(client, &dead) != IMAGESTREAM_BAD_FILE_SIZE)
  {
    std::fprintf(stderr, "lock on a truncated file did not say BAD_FILE_SIZE\n");
    ok = false;
  }
  SharedMemoryImageStream_destroy(client);
  client = nullptr;
  window->SetSize(200, 150);
  window->Render();
  err = SharedMemoryImageStream_create(file.c_str(), IMAGESTREAM_OPTIONS_ANYFORMAT, &client);
  if (err < IMAGESTREAM_NOERROR || !publisher->IsPublishing())
  {
    std::fprintf(stderr, "after truncation: client %s, publishing %d\n",
      SharedMemoryImageStream_errorstring(err), publisher->IsPublishing() ? 1 : 0);
    return EXIT_FAILURE;
  }
  ok = CheckFrame(client, window, "after truncation") && ok;

  // EnSight's layout is top row first: the rows are read so (Mesa's
  // GL_MESA_pack_invert) or reversed by the library when it publishes.
  SharedMemoryImageStream_destroy(client);
  const std::string enSightFile = file + "-ensight";
  publisher->Stop();
  publisher->EnSightLayoutOn();
  publisher->SetFileName(enSightFile.c_str());
  publisher->Start();
  err = SharedMemoryImageStream_create(enSightFile.c_str(), IMAGESTREAM_OPTIONS_ANYFORMAT, &client);
  if (err < IMAGESTREAM_NOERROR)
  {
    std::fprintf(stderr, "EnSight-layout client: %s\n", SharedMemoryImageStream_errorstring(err));
    return EXIT_FAILURE;
  }
  window->Render();
  ok = CheckFrame(client, window, "EnSight layout", true) && ok;
  SharedMemoryImageStream_destroy(client);
  publisher->Stop();
  publisher->EnSightLayoutOff();
  publisher->SetFileName(file.c_str());
  publisher->Start();
  unlink(enSightFile.c_str());
  err = SharedMemoryImageStream_create(file.c_str(), IMAGESTREAM_OPTIONS_ANYFORMAT, &client);
  if (err < IMAGESTREAM_NOERROR)
  {
    std::fprintf(stderr, "client again: %s\n", SharedMemoryImageStream_errorstring(err));
    return EXIT_FAILURE;
  }
  window->Render();
  ok = CheckFrame(client, window, "extended layout again") && ok;

  // Stop(): renders publish nothing more.
  publisher->Stop();
  if (publisher->IsPublishing())
  {
    std::fprintf(stderr, "still publishing after Stop()\n");
    ok = false;
  }
  const vtkIdType stopped = publisher->GetNumberOfPublishedFrames();
  window->Render();
  if (publisher->GetNumberOfPublishedFrames() != stopped ||
    SharedMemoryImageStream_wait(client, 200) == IMAGESTREAM_NOERROR)
  {
    std::fprintf(stderr, "a frame was published after Stop()\n");
    ok = false;
  }
  SharedMemoryImageStream_destroy(client);
  std::printf("%lld frames published, %lld skipped\n",
    static_cast<long long>(publisher->GetNumberOfPublishedFrames()),
    static_cast<long long>(publisher->GetNumberOfSkippedFrames()));
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
}

int Bench(int w, int h, int frames, const std::string& file)
{
  vtkNew<vtkRenderer> renderer;
  AddQuad(renderer, 0.0, 0.5, 1.0, 1.0, 1, 0, 0);
  vtkNew<vtkRenderWindow> window;
  window->SetOffScreenRendering(1);
  window->SetMultiSamples(0);
  window->AddRenderer(renderer);
  window->SetSize(w, h);
  window->Render();
  vtkNew<vtkSharedMemoryRenderWindowPublisher> publisher;
  publisher->SetRenderWindow(window);
  publisher->SetFileName(file.c_str());
  if (!publisher->Start())
  {
    return EXIT_FAILURE;
  }
  const int front = window->GetSwapBuffers() ? 1 : 0;
  vtkNew<vtkUnsignedCharArray> pixels;
  pixels->SetNumberOfComponents(3);
  pixels->SetNumberOfTuples(vtkIdType(w) * h);
  const SMIMedians m = SMIInterleavedMedians(
    frames, [] {}, [&] { window->GetPixelData(0, 0, w - 1, h - 1, front, pixels, 0); },
    [&] { publisher->Publish(); });
  const double readback = m.A;
  const double publish = m.B;
  std::printf("bench %dx%d readback_ms %.3f publish_ms %.3f overhead_pct %.1f published %lld\n", w,
    h, readback, publish, 100.0 * (publish - readback) / readback,
    static_cast<long long>(publisher->GetNumberOfPublishedFrames()));
  return EXIT_SUCCESS;
}

int TestSharedMemoryRenderWindowPublisher(int argc, char* argv[])
{
  const int bench = SMIRunBenchMode(argc, argv, "publisher", Bench);
  if (bench >= 0)
  {
    return bench;
  }
  std::string file;
  if (argc > 1)
  {
    file = argv[1];
  }
  else
  {
    file = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    file += "/smi-test-publisher-" + std::to_string(getpid()) + ".smi";
  }
  const int rc = Run(file);
  unlink(file.c_str());
  if (rc != EXIT_SUCCESS)
  {
    std::fprintf(stderr, "TestSharedMemoryRenderWindowPublisher: FAILED\n");
  }
  return rc;
}

int main(int argc, char* argv[])
{
  return TestSharedMemoryRenderWindowPublisher(argc, argv);
}
